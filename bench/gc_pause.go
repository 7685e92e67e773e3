// gc_pause.go: Go's peer for bench/gc_pause.c, the same heap and
// churn: a forest of complete binary trees of 24-byte nodes, -threads
// goroutines replacing random depth-8 subtrees at -churn-mbps MB/s, while
// the main goroutine forces -cycles collections with runtime.GC.
//
// Pauses and mark times are not read here: gc_report.py runs this program
// with GODEBUG=gctrace=1 and takes, from the trace lines printed after the
// "GCPAUSE-MEASURE" marker on stderr, both stop-the-world pauses of each
// cycle, its concurrent mark wall time and its live heap, exactly as it
// does for nothing else: Go's own account of its cycles. This program
// prints one "GCPAUSE {json}" line with the rest.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

const (
	treeDepth = 16
	subDepth  = 8
)

type node struct {
	l, r  *node
	depth uintptr
}

var trees []*node

func build(depth, max int) *node {
	n := &node{depth: uintptr(depth)}
	if depth < max {
		n.l = build(depth+1, max)
		n.r = build(depth+1, max)
	}
	return n
}

func countOK(n *node, depth uintptr) int64 {
	if n == nil {
		if depth == treeDepth+1 {
			return 0
		}
		return -1
	}
	if n.depth != depth {
		return -1
	}
	a, b := countOK(n.l, depth+1), countOK(n.r, depth+1)
	if a < 0 || b < 0 {
		return -1
	}
	return a + b + 1
}

func main() {
	heapMB := flag.Float64("heap-mb", 1024, "live heap in MiB of 24-byte nodes")
	cycles := flag.Int("cycles", 10, "forced collections in the measured window")
	threads := flag.Int("threads", 4, "mutator goroutines")
	churn := flag.Float64("churn-mbps", 50, "allocation rate of the mutators in MB/s (0: unthrottled)")
	flag.Parse()
	if *heapMB < 16 || *cycles < 1 || *threads < 0 || *churn < 0 {
		fmt.Fprintln(os.Stderr, "gc_pause.go: bad option value")
		os.Exit(2)
	}

	perTree := int64(1)<<(treeDepth+1) - 1
	ntrees := int(*heapMB*1048576/24/float64(perTree) + 0.5)
	if ntrees < 1 {
		ntrees = 1
	}
	t0 := time.Now()
	trees = make([]*node, ntrees)
	for i := range trees {
		trees[i] = build(0, treeDepth)
	}
	buildS := time.Since(t0).Seconds()

	var stop int32
	var ops int64
	var wg sync.WaitGroup
	opBytes := float64(int64(1)<<(treeDepth-subDepth+1)-1) * 24
	for t := 0; t < *threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			mine := (ntrees - t + *threads - 1) / *threads
			if mine <= 0 {
				return
			}
			rng := uint64(0x9E3779B97F4A7C15) * uint64(t+1)
			next := func() uint64 {
				rng ^= rng << 13
				rng ^= rng >> 7
				rng ^= rng << 17
				return rng
			}
			// Pacing as in gc_pause.c: catch up by at most 100 ms of work.
			var opNs float64
			if *churn > 0 {
				opNs = opBytes / (*churn * 1e6 / float64(*threads)) * 1e9
			}
			due := float64(time.Now().UnixNano())
			for atomic.LoadInt32(&stop) == 0 {
				p := trees[t+*threads*int(next()%uint64(mine))]
				for d := 0; d < subDepth-1; d++ {
					if next()&1 != 0 {
						p = p.l
					} else {
						p = p.r
					}
				}
				sub := build(subDepth, treeDepth)
				if next()&1 != 0 {
					p.l = sub
				} else {
					p.r = sub
				}
				atomic.AddInt64(&ops, 1)
				if opNs > 0 {
					due += opNs
					now := float64(time.Now().UnixNano())
					if due > now+50e3 {
						time.Sleep(time.Duration(due - now))
					} else if now-due > 100e6 {
						due = now - 100e6
					}
				}
			}
		}(t)
	}

	runtime.GC() // warm-up: the window starts after a full cycle
	fmt.Fprintln(os.Stderr, "GCPAUSE-MEASURE")
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	ops0 := atomic.LoadInt64(&ops)
	w0 := time.Now()
	for c := 0; c < *cycles; c++ {
		runtime.GC()
	}
	wall := time.Since(w0).Seconds()
	windowOps := atomic.LoadInt64(&ops) - ops0
	runtime.ReadMemStats(&m1)
	fmt.Fprintln(os.Stderr, "GCPAUSE-END")
	atomic.StoreInt32(&stop, 1)
	wg.Wait()

	bad := 0
	for _, t := range trees {
		if countOK(t, 0) != perTree {
			bad++
		}
	}
	fmt.Printf("GCPAUSE {\"impl\":\"go\",\"heap_mb\":%g,\"node_bytes\":24,\"nodes\":%d,"+
		"\"threads\":%d,\"churn_mbps\":%g,\"build_s\":%.3f,\"forced_cycles\":%d,"+
		"\"cycles\":%d,\"wall_s\":%.3f,\"mutator_ops\":%d,\"op_bytes\":%d,\"trees_bad\":%d,"+
		"\"gomaxprocs\":%d,\"go\":\"%s\"}\n",
		*heapMB, int64(ntrees)*perTree, *threads, *churn, buildS, *cycles,
		m1.NumGC-m0.NumGC, wall, windowOps, int64(opBytes), bad,
		runtime.GOMAXPROCS(0), runtime.Version())
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "gc_pause.go: %d trees damaged\n", bad)
		os.Exit(1)
	}
}
