; Ruby tags. A method at file level is a function, elsewhere a method; a constant assignment is a constant. A
; bare identifier may be a local or a method call, so only calls with a receiver, arguments or parentheses are.

; --- definitions

(program
  (method
    name: (_) @name) @definition.function)

[
  (method
    name: (_) @name)
  (singleton_method
    name: (_) @name)
  (alias
    name: [(identifier) (constant) (operator) (setter)] @name)
] @definition.method

(class
  name: [
    (constant) @name
    (scope_resolution
      name: (_) @name)
  ]) @definition.class

(module
  name: [
    (constant) @name
    (scope_resolution
      name: (_) @name)
  ]) @definition.module

(assignment
  left: [
    (constant) @name
    (scope_resolution
      name: (constant) @name)
  ]) @definition.constant

; --- references

(superclass
  [
    (constant) @name
    (scope_resolution
      name: (constant) @name)
  ]) @reference.class

((call
  receiver: [
    (constant) @name
    (scope_resolution
      name: (constant) @name)
  ]
  method: (identifier) @_new) @reference.class
  (#eq? @_new "new"))

((call
  method: (identifier) @_mixin
  arguments: (argument_list
    [
      (constant) @name
      (scope_resolution
        name: (constant) @name)
    ])) @reference.implementation
  (#any-of? @_mixin "include" "extend" "prepend"))

((call
  method: (identifier) @_require
  arguments: (argument_list
    .
    (string
      (string_content) @name))) @reference.module
  (#any-of? @_require "require" "require_relative" "load" "autoload"))

(call
  method: (identifier) @name) @reference.call

; Every other use of a constant: a class or module (JSON.parse, raise Error, Base::Record) or a constant.
((constant) @name @reference.constant)
