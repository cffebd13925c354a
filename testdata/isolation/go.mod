module example.com/fixture/isolation

go 1.26
