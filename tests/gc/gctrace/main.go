// The Go twin of tests/gc/gctrace_prog.c for tests/gc/gctrace_format.py:
// the same steps, so GODEBUG=gctrace=1 prints forced and automatic cycles.
package main

import (
	"fmt"
	"runtime"
	"time"
)

type node struct{ l, r *node }

func tree(d int) *node {
	if d == 0 {
		return &node{}
	}
	return &node{tree(d - 1), tree(d - 1)}
}

var sink *node

func main() {
	start := time.Now()
	time.Sleep(47 * time.Millisecond)
	fmt.Printf("%.3f\n", time.Since(start).Seconds())
	runtime.GC()
	for i := 0; i < 40; i++ {
		sink = tree(14)
	}
	runtime.GC()
	time.Sleep(100 * time.Millisecond) // the last line may still be printing
}
