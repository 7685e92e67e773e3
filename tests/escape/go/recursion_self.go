package main; import "unsafe" // recursion_self: a self-recursive function is a batch of its own, wired directly
func last(p unsafe.Pointer) unsafe.Pointer {
    var q unsafe.Pointer; q = *(*unsafe.Pointer)(p); _ = q
    if q != nil {
        var r unsafe.Pointer; r = last(q); _ = r
        return r
    }
    return p
return nil }
func main() {
    var a unsafe.Pointer; a = unsafe.Pointer(new([1]unsafe.Pointer)); _ = a
    var b unsafe.Pointer; b = unsafe.Pointer(new([1]unsafe.Pointer)); _ = b
    *(*unsafe.Pointer)(a) = b
    var r unsafe.Pointer; r = last(a); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
