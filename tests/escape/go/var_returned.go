package main; import "unsafe" // var_returned: returning &x moves x to the heap (results outlive the frame)
func addr() unsafe.Pointer {
    var x unsafe.Pointer; _ = x
    var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
    return p
return nil }
func main() {
    var r unsafe.Pointer; r = addr(); _ = r
    println(r)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
