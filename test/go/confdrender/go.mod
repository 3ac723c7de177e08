module confdrender

go 1.19
