// gc_workloads.go: Go's peer for bench/gc_workloads.c, the same
// workloads with the same shapes and checks (see the top of that file):
//
//	trees   binary trees of 16-byte nodes, depths 4, 6, .. -depth
//	window  -window live messages of -msg-bytes, -pushes timed pushes
//	churn   -threads goroutines rewiring and replacing the nodes of a
//	        shared graph of -nodes nodes for -seconds
//
// and, in gc_workloads_mem.go (the same program), gcw_memory.c's steady,
// memlimit and release.
//
// Pauses are not read here: gc_workloads.py runs this program with
// GODEBUG=gctrace=1 and takes both stop-the-world pauses of each cycle
// from the trace lines between the "GCWORK-MEASURE" and "GCWORK-END"
// markers on stderr, as gc_report.py does for the pause run. The churn
// goroutines share the graph without locks, as gc_workloads.c's threads
// do: Go's pointer stores are single words and always go through its
// write barrier. Output: one line "GCWORK {json}"; bad options exit 2.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type tnode struct{ l, r *tnode }

func bottomUp(depth int) *tnode {
	n := &tnode{}
	if depth > 0 {
		n.l = bottomUp(depth - 1)
		n.r = bottomUp(depth - 1)
	}
	return n
}

func itemCheck(n *tnode) int64 {
	if n.l == nil {
		return 1
	}
	return 1 + itemCheck(n.l) + itemCheck(n.r)
}

// statusKiB is a field of /proc/self/status in KiB ("VmHWM", "VmRSS"; 0
// if unreadable).
func statusKiB(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if strings.HasPrefix(s.Text(), field+":") {
			kib, _ := strconv.ParseInt(strings.Fields(s.Text())[1], 10, 64)
			return kib
		}
	}
	return 0
}

func peakRSSKiB() int64 { return statusKiB("VmHWM") }

func numGC() uint32 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.NumGC
}

func measureStart() uint32 {
	fmt.Fprintln(os.Stderr, "GCWORK-MEASURE")
	return numGC()
}

// measureEnd closes the measured phase and returns its cycles.
func measureEnd(gc0 uint32) uint32 {
	fmt.Fprintln(os.Stderr, "GCWORK-END")
	return numGC() - gc0
}

// tail ends every output line: cycles, RSS and the damage count.
func tail(cycles uint32, bad int64) string {
	return fmt.Sprintf("\"cycles\":%d,\"peak_rss_kib\":%d,\"bad\":%d,\"go\":\"%s\",\"gomaxprocs\":%d}",
		cycles, peakRSSKiB(), bad, runtime.Version(), runtime.GOMAXPROCS(0))
}

func runTrees(max int) int64 {
	const minDepth = 4
	var bad, allocated int64
	gc0 := measureStart()
	t0 := time.Now()
	if itemCheck(bottomUp(max+1)) != int64(2)<<(max+1)-1 {
		bad++
	}
	longLived := bottomUp(max)
	allocated += int64(2)<<(max+1) - 1 + int64(2)<<max - 1
	for d := minDepth; d <= max; d += 2 {
		iters, want := int64(1)<<(max-d+minDepth), int64(2)<<d-1
		for i := int64(0); i < iters; i++ {
			if itemCheck(bottomUp(d)) != want {
				bad++
			}
		}
		allocated += iters * want
	}
	if itemCheck(longLived) != int64(2)<<max-1 {
		bad++
	}
	secs := time.Since(t0).Seconds()
	cycles := measureEnd(gc0)
	fmt.Printf("GCWORK {\"workload\":\"trees\",\"impl\":\"go\",\"depth\":%d,\"nodes_allocated\":%d,"+
		"\"node_bytes\":16,\"time_s\":%.4f,%s\n", max, allocated, secs, tail(cycles, bad))
	return bad
}

func makeMessage(seq int64, size int) []byte {
	m := make([]byte, size)
	b := byte(seq)
	for i := range m {
		m[i] = b
	}
	for i := 0; i < 8; i++ {
		m[i] = byte(uint64(seq) >> (8 * i))
	}
	return m
}

func messageOK(m []byte, seq int64) bool {
	var got uint64
	for i := 0; i < 8; i++ {
		got |= uint64(m[i]) << (8 * i)
	}
	return int64(got) == seq && m[len(m)-1] == byte(seq) && m[len(m)/2] == byte(seq)
}

func pct(sorted []int64, p float64) int64 {
	k := int(p/100*float64(len(sorted))+0.5) - 1
	if k < 0 {
		k = 0
	}
	if k >= len(sorted) {
		k = len(sorted) - 1
	}
	return sorted[k]
}

func runWindow(w, pushes int64, size int) int64 {
	var bad int64
	win := make([][]byte, w)
	lat := make([]int64, pushes)
	for i := int64(0); i < w; i++ {
		win[i] = makeMessage(i, size)
	}
	gc0 := measureStart()
	t0 := time.Now()
	for seq := w; seq < w+pushes; seq++ {
		slot := seq % w
		if !messageOK(win[slot], seq-w) {
			bad++
		}
		s := time.Now()
		win[slot] = makeMessage(seq, size)
		lat[seq-w] = int64(time.Since(s))
	}
	secs := time.Since(t0).Seconds()
	cycles := measureEnd(gc0)
	for i := int64(0); i < w; i++ {
		if !messageOK(win[i], pushes+((i-pushes%w)%w+w)%w) {
			bad++
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	fmt.Printf("GCWORK {\"workload\":\"window\",\"impl\":\"go\",\"window\":%d,\"pushes\":%d,"+
		"\"msg_bytes\":%d,\"time_s\":%.4f,\"push_ns\":{\"p50\":%d,\"p99\":%d,\"p999\":%d,"+
		"\"p9999\":%d,\"max\":%d},%s\n", w, pushes, size, secs, pct(lat, 50), pct(lat, 99),
		pct(lat, 99.9), pct(lat, 99.99), lat[len(lat)-1], tail(cycles, bad))
	return bad
}

const edges, payloadWords = 3, 4

type gnode struct {
	serial, hash uint64
	edge         [edges]*gnode
	payload      *[payloadWords]uint64
}

func mix(x uint64) uint64 {
	x ^= x >> 31
	x *= 0x7FB5D329728EA185
	return x ^ (x >> 27)
}

func newGnode(serial uint64) *gnode {
	p := new([payloadWords]uint64)
	for i := range p {
		p[i] = serial
	}
	return &gnode{serial: serial, hash: mix(serial), payload: p}
}

func gnodeOK(n *gnode) bool {
	if n == nil || n.hash != mix(n.serial) || n.payload == nil {
		return false
	}
	for _, v := range n.payload {
		if v != n.serial {
			return false
		}
	}
	return true
}

type xorshift uint64

func (s *xorshift) next() uint64 {
	*s ^= *s << 13
	*s ^= *s >> 7
	*s ^= *s << 17
	return uint64(*s)
}

func runChurn(threads, nodes int, replacePct uint64, seconds float64) int64 {
	graph := make([]*gnode, nodes)
	rng := xorshift(42)
	for i := range graph {
		graph[i] = newGnode(uint64(i))
	}
	for i := range graph {
		for e := 0; e < edges; e++ {
			graph[i].edge[e] = graph[rng.next()%uint64(nodes)]
		}
	}
	var stop int32
	var ops, replaced, bad int64
	var wg sync.WaitGroup
	gc0 := measureStart()
	t0 := time.Now()
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			rng := xorshift(0x9E3779B97F4A7C15 * uint64(t+1))
			serial := uint64(t+1) << 48
			var myOps, myRepl, myBad int64
			for atomic.LoadInt32(&stop) == 0 {
				for k := 0; k < 64; k++ {
					myOps++
					r := rng.next()
					i := int(r % uint64(nodes))
					a := graph[i]
					if !gnodeOK(a) {
						myBad++
					}
					if (r>>40&127)*100 < replacePct*128 {
						n := newGnode(serial)
						serial++
						n.edge = a.edge
						graph[i] = n
						myRepl++
					} else {
						b := graph[(r>>20)%uint64(nodes)]
						via := a.edge[(r>>44)%edges]
						if !gnodeOK(via) {
							myBad++
						}
						if r>>56&1 != 0 {
							a.edge[(r>>50)%edges] = b
						} else {
							a.edge[(r>>50)%edges] = via
						}
					}
				}
			}
			atomic.AddInt64(&ops, myOps)
			atomic.AddInt64(&replaced, myRepl)
			atomic.AddInt64(&bad, myBad)
		}(t)
	}
	time.Sleep(time.Duration(seconds * 1e9))
	atomic.StoreInt32(&stop, 1)
	wg.Wait()
	secs := time.Since(t0).Seconds()
	cycles := measureEnd(gc0)
	runtime.GC() // then every node still reachable must be whole
	for _, n := range graph {
		if !gnodeOK(n) {
			bad++
		}
		for _, e := range n.edge {
			if !gnodeOK(e) {
				bad++
			}
		}
	}
	fmt.Printf("GCWORK {\"workload\":\"churn\",\"impl\":\"go\",\"threads\":%d,\"nodes\":%d,"+
		"\"node_bytes\":48,\"time_s\":%.4f,\"ops\":%d,\"replaced\":%d,\"ops_per_s\":%.0f,%s\n",
		threads, nodes, secs, ops, replaced, float64(ops)/secs, tail(cycles, bad))
	return bad
}

func main() {
	usage := "usage: gc_workloads trees|window|churn|steady|memlimit|release [-depth N] " +
		"[-window N] [-pushes N] [-msg-bytes N] [-threads N] [-nodes N] [-replace-pct P] " +
		"[-seconds S] [-live-mb N] [-turnover X] [-release-mb N]"
	known := map[string]bool{"trees": true, "window": true, "churn": true, "steady": true,
		"memlimit": true, "release": true}
	if len(os.Args) < 2 || !known[os.Args[1]] {
		fmt.Fprintln(os.Stderr, "gc_workloads.go: expected a workload first\n"+usage)
		os.Exit(2)
	}
	fs := flag.NewFlagSet("gc_workloads", flag.ContinueOnError)
	depth := fs.Int("depth", 18, "binary trees: deepest tree")
	window := fs.Int64("window", 200000, "window: live messages")
	pushes := fs.Int64("pushes", 1000000, "window: timed pushes")
	msgBytes := fs.Int("msg-bytes", 1024, "window: message size")
	threads := fs.Int("threads", 4, "churn: goroutines")
	nodes := fs.Int("nodes", 1<<17, "churn: graph nodes")
	replacePct := fs.Uint64("replace-pct", 25, "churn: share of operations that replace a node")
	seconds := fs.Float64("seconds", 5, "churn: duration")
	liveMB := fs.Int64("live-mb", 64, "steady, memlimit: live MiB")
	turnover := fs.Float64("turnover", 20, "steady, memlimit: bytes allocated, in live sets")
	releaseMB := fs.Int64("release-mb", 1024, "release: MiB allocated and given back")
	if fs.Parse(os.Args[2:]) != nil || fs.NArg() > 0 || *depth < 4 || *depth > 24 || *window < 1 ||
		*pushes < 1 || *msgBytes < 16 || *threads < 1 || *nodes < 2 || *replacePct > 100 ||
		*seconds <= 0 || *liveMB < 1 || *turnover <= 0 || *releaseMB < 1 {
		fmt.Fprintln(os.Stderr, "gc_workloads.go: bad options\n"+usage)
		os.Exit(2)
	}
	var bad int64
	switch os.Args[1] {
	case "trees":
		bad = runTrees(*depth)
	case "window":
		bad = runWindow(*window, *pushes, *msgBytes)
	case "churn":
		bad = runChurn(*threads, *nodes, *replacePct, *seconds)
	case "release":
		bad = runRelease(*releaseMB)
	default:
		bad = runRing(os.Args[1], *liveMB, *turnover)
	}
	if bad != 0 {
		fmt.Fprintf(os.Stderr, "gc_workloads.go: %d damaged objects\n", bad)
		os.Exit(1)
	}
}
