package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"example.invalid/gopherping/internal/probe"
)

func main() {
	file := flag.String("f", "endpoints.txt", "file with one URL a line")
	timeout := flag.Duration("timeout", 5*time.Second, "per request")
	flag.Parse()
	down := probe.CheckFile(*file, *timeout, os.Stdout)
	if down > 0 {
		fmt.Fprintf(os.Stderr, "%d endpoint(s) down\n", down)
		os.Exit(1)
	}
}
