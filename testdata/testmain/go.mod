module example.com/fixture/testmain

go 1.26
