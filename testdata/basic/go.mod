module example.com/fixture/basic

go 1.26
