package main; import "unsafe" // new_returned: an allocation returned to the caller escapes
func mk() unsafe.Pointer {
    var p unsafe.Pointer; p = unsafe.Pointer(new([1]unsafe.Pointer)); _ = p
    return p
return nil }
func main() {
    var q unsafe.Pointer; q = mk(); _ = q
    println(q)
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
