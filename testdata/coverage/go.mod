module example.com/fixture/coverage

go 1.22
