module example.com/fixture/semantics

go 1.26
