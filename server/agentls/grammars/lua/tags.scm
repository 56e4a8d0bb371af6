; Lua tags. function T:m() is a method, any other named function (f, T.f, T.f = function, { f = function })
; a function; variables assigned at file level (locals and table fields) are constants.

; --- definitions

(function_declaration
  name: (method_index_expression
    method: (identifier) @name)) @definition.method

(function_declaration
  name: [
    (identifier) @name
    (dot_index_expression
      field: (identifier) @name)
  ]) @definition.function

(assignment_statement
  (variable_list
    .
    name: [
      (identifier) @name
      (dot_index_expression
        field: (identifier) @name)
    ])
  (expression_list
    .
    value: (function_definition))) @definition.function

(field
  name: (identifier) @name
  value: (function_definition)) @definition.function

(chunk
  [
    (assignment_statement
      (variable_list
        name: [
          (identifier) @name
          (dot_index_expression
            field: (identifier) @name)
        ])) @definition.constant
    (variable_declaration
      (assignment_statement
        (variable_list
          name: (identifier) @name))) @definition.constant
  ])

; --- references

((function_call
  name: (identifier) @_require
  arguments: (arguments
    .
    (string
      content: (string_content) @name))) @reference.module
  (#eq? @_require "require"))

(function_call
  name: [
    (identifier) @name
    (dot_index_expression
      field: (identifier) @name)
    (method_index_expression
      method: (identifier) @name)
  ]) @reference.call
