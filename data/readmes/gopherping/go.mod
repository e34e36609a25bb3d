module example.invalid/gopherping

go 1.22
