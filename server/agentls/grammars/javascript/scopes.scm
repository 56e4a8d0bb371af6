; inherits: ecma
; JavaScript scopes: the shared ecma patterns.
