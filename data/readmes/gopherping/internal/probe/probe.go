package probe

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"
)

// CheckFile probes every URL in path and returns how many did not answer with 2xx.
func CheckFile(path string, timeout time.Duration, out io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(out, err)
		return 1
	}
	defer f.Close()
	client := http.Client{Timeout: timeout}
	down := 0
	scan := bufio.NewScanner(f)
	for scan.Scan() {
		start := time.Now()
		resp, err := client.Get(scan.Text())
		if err != nil || resp.StatusCode >= 300 {
			down++
			continue
		}
		fmt.Fprintf(out, "%d %6s %s\n", resp.StatusCode, time.Since(start).Round(time.Millisecond), scan.Text())
	}
	return down
}
