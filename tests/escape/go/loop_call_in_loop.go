package main; import "unsafe" // loop_call_in_loop: a call result inside a loop assigned to an outer name
func id(p unsafe.Pointer) unsafe.Pointer {
    return p
return nil }
func main() {
    var keep unsafe.Pointer; keep = nil; _ = keep
    for i_ := 0; i_ < 2; i_++ {
        var n unsafe.Pointer; n = unsafe.Pointer(new([1]unsafe.Pointer)); _ = n
        var r unsafe.Pointer; r = id(n); _ = r
        keep = r
        var m unsafe.Pointer; m = unsafe.Pointer(new([1]unsafe.Pointer)); _ = m
        var s unsafe.Pointer; s = id(m); _ = s
        println(s)
    }
    println(keep)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
