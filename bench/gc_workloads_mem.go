// gc_workloads_mem.go: Go's peer for bench/gcw_memory.c, built with
// gc_workloads.go into one program (see the top of that C file):
//
//	steady    a FIFO of -live-mb MiB of 64..512-byte objects linked
//	          oldest to newest, -turnover x L bytes allocated; run with
//	          GOGC=50, 100, 200 in the environment
//	memlimit  the same, run with GOGC=off and GOMEMLIMIT
//	release   -release-mb MiB of 1..64 KiB byte objects, dropped, then
//	          debug.FreeOSMemory: the resident set before (after one GC and
//	          one FreeOSMemory), full and after
//
// The objects of the FIFO are structs of exactly their size class (a
// link, two words and a payload of words, no malloc header below 512
// bytes in any Go version), so the live set is the same bytes as the C
// build's. The heap's peak comes from gctrace, as tricolor's.
package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"time"
	"unsafe"
)

// robj is the header every FIFO object starts with.
type robj struct {
	next      *robj
	seq, size uint64
}

type robj64 struct {
	robj
	w [5]uint64
}
type robj128 struct {
	robj
	w [13]uint64
}
type robj256 struct {
	robj
	w [29]uint64
}
type robj512 struct {
	robj
	w [61]uint64
}

func robjSize(seq uint64) uint64 { return 64 << ((seq * 0x9E3779B97F4A7C15) >> 62) }

func payload(o *robj) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Add(unsafe.Pointer(o), unsafe.Sizeof(robj{}))), o.size/8-3)
}

func newRobj(seq uint64) *robj {
	var o *robj
	switch robjSize(seq) {
	case 64:
		o = &new(robj64).robj
	case 128:
		o = &new(robj128).robj
	case 256:
		o = &new(robj256).robj
	default:
		o = &new(robj512).robj
	}
	o.seq, o.size = seq, robjSize(seq)
	for i := range payload(o) {
		payload(o)[i] = seq
	}
	return o
}

func robjOK(o *robj, seq uint64) bool {
	if o == nil || o.seq != seq || o.size != robjSize(seq) {
		return false
	}
	for _, w := range payload(o) {
		if w != seq {
			return false
		}
	}
	return true
}

type fifo struct {
	head, tail    *robj
	nextSeq, live uint64
	bad           int64
}

func (q *fifo) push(limit uint64) uint64 {
	o := newRobj(q.nextSeq)
	q.nextSeq++
	if q.tail != nil {
		q.tail.next = o
	} else {
		q.head = o
	}
	q.tail = o
	q.live += o.size
	for q.live > limit {
		old := q.head
		if !robjOK(old, old.seq) || (old.next != nil && old.next.seq != old.seq+1) {
			q.bad++
		}
		q.head = old.next
		q.live -= old.size
		old.next = nil
	}
	return o.size
}

func runRing(name string, liveMB int64, turnover float64) int64 {
	limit := uint64(liveMB) << 20
	want, allocated := uint64(turnover*float64(limit)), uint64(0)
	q := &fifo{}
	for q.live+512 <= limit {
		q.push(limit)
	}
	gc0 := measureStart()
	t0 := time.Now()
	for allocated < want {
		allocated += q.push(limit)
	}
	secs := time.Since(t0).Seconds()
	cycles := measureEnd(gc0)
	var objects int64
	seq, bytes := q.head.seq, uint64(0)
	for o := q.head; o != nil; o = o.next {
		if !robjOK(o, seq) {
			q.bad++
		}
		bytes += o.size
		seq++
		objects++
	}
	if bytes != q.live || seq != q.nextSeq {
		q.bad++
	}
	gogc := debug.SetGCPercent(-1)
	debug.SetGCPercent(gogc)
	fmt.Printf("GCWORK {\"workload\":\"%s\",\"impl\":\"go\",\"live_bytes\":%d,\"live_objects\":%d,"+
		"\"allocated_bytes\":%d,\"time_s\":%.4f,\"heap_peak_bytes\":0,\"gogc\":%d,\"memory_limit\":%d,%s\n",
		name, q.live, objects, allocated, secs, gogc, debug.SetMemoryLimit(-1), tail(cycles, q.bad))
	return q.bad
}

func rssKiB() int64 { return statusKiB("VmRSS") }

func releaseSize(i uint64) int { return 1024 << ((i * 0x9E3779B97F4A7C15 >> 32) % 7) }

func runRelease(mb int64) int64 {
	want, total, n := uint64(mb)<<20, uint64(0), 0
	for total < want {
		total += uint64(releaseSize(uint64(n)))
		n++
	}
	runtime.GC() // the start: the runtime up, one cycle run, free memory given back
	debug.FreeOSMemory()
	rss0, gc0 := rssKiB(), numGC()
	objs := make([][]uint64, n)
	t0 := time.Now()
	for i := range objs {
		o := make([]uint64, releaseSize(uint64(i))/8)
		for j := range o {
			o[j] = uint64(i)
		}
		objs[i] = o
	}
	fillS := time.Since(t0).Seconds()
	rssFull := rssKiB()
	var bad int64
	for i, o := range objs {
		if o[0] != uint64(i) || o[len(o)/2] != uint64(i) || o[len(o)-1] != uint64(i) {
			bad++
		}
		objs[i] = nil
	}
	objs = nil
	rssDropped := rssKiB()
	t0 = time.Now()
	debug.FreeOSMemory()
	releaseMS := float64(time.Since(t0).Nanoseconds()) / 1e6
	rssAfter := rssKiB()
	fmt.Printf("GCWORK {\"workload\":\"release\",\"impl\":\"go\",\"objects\":%d,\"bytes\":%d,"+
		"\"fill_s\":%.4f,\"rss_start_kib\":%d,\"rss_full_kib\":%d,\"rss_dropped_kib\":%d,"+
		"\"rss_after_kib\":%d,\"released_bytes\":0,\"release_ms\":%.2f,%s\n", n, total, fillS,
		rss0, rssFull, rssDropped, rssAfter, releaseMS, tail(numGC()-gc0, bad))
	return bad
}
