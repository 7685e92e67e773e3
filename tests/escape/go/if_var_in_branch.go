package main; import "unsafe" // if_var_in_branch: a var declared in a branch and used there
func main() {
    var c unsafe.Pointer; c = unsafe.Pointer(new([1]unsafe.Pointer)); _ = c
    if c != nil {
        var x unsafe.Pointer; _ = x
        var p unsafe.Pointer; p = unsafe.Pointer(&x); _ = p
        println(p)
    }
}

// Declarations the IR does not spell out.
var _ unsafe.Pointer
