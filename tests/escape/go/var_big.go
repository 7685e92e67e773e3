package main; import "unsafe" // var_big: a var over 10 MiB (MaxStackVarSize) always lives on the heap
func main() {
    var small [1310720]unsafe.Pointer; _ = small
    var big [1310721]unsafe.Pointer; _ = big
    var p unsafe.Pointer; p = unsafe.Pointer(&small); _ = p
    var q unsafe.Pointer; q = unsafe.Pointer(&big); _ = q
    println(p)
    println(q)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
