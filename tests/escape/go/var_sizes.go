package main; import "unsafe" // var_sizes: below 10 MiB a var's size does not matter
var g unsafe.Pointer
func main() {
    var a [4]byte; _ = a
    var b [3]unsafe.Pointer; _ = b
    var c [0]unsafe.Pointer; _ = c
    var p unsafe.Pointer; p = unsafe.Pointer(&a); _ = p
    var q unsafe.Pointer; q = unsafe.Pointer(&b); _ = q
    var r unsafe.Pointer; r = unsafe.Pointer(&c); _ = r
    g = q
    println(p)
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
