; Tags shared by JavaScript and TypeScript (a query fragment: "ecma" is not a language id). The languages'
; own files inherit it; patterns that exist in only one grammar stay in that language's file.

; --- definitions

((method_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method
  (#not-eq? @name "constructor"))

[
  (class_declaration
    name: (_) @name)
  (class
    name: (_) @name)
] @definition.class

[
  (function_declaration
    name: (identifier) @name)
  (generator_function_declaration
    name: (identifier) @name)
  (function_expression
    name: (identifier) @name)
  (generator_function
    name: (identifier) @name)
] @definition.function

; const f = () => {}, var g = function () {}
(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

; exports.f = function () {}, Foo.prototype.bar = () => {}
(assignment_expression
  left: [
    (identifier) @name
    (member_expression
      property: (property_identifier) @name)
  ]
  right: [(arrow_function) (function_expression) (generator_function)]) @definition.function

; { onError: (error) => ... }
(pair
  key: (property_identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

; Module-level variables, exported or not (a function-valued one is a function, above).
(program
  [
    (lexical_declaration
      (variable_declarator
        name: (identifier) @name) @definition.constant)
    (variable_declaration
      (variable_declarator
        name: (identifier) @name) @definition.constant)
  ])

(program
  (export_statement
    declaration: [
      (lexical_declaration
        (variable_declarator
          name: (identifier) @name) @definition.constant)
      (variable_declaration
        (variable_declarator
          name: (identifier) @name) @definition.constant)
    ]))

; --- references

(call_expression
  function: [
    (identifier) @name
    (member_expression
      property: [(property_identifier) (private_property_identifier)] @name)
  ]) @reference.call

(new_expression
  constructor: [
    (identifier) @name
    (member_expression
      property: (property_identifier) @name)
  ]) @reference.class

; import { a, b as c } from "m" / import d from "m": references to a, b and d.
(import_specifier
  name: (identifier) @name) @reference.import

(import_clause
  (identifier) @name) @reference.import

; export { a as b } from "m"
(export_statement
  (export_clause
    (export_specifier
      name: (identifier) @name) @reference.import)
  source: (_))

(import_statement
  source: (string
    (string_fragment) @name)) @reference.module

(export_statement
  source: (string
    (string_fragment) @name)) @reference.module

((call_expression
  function: (identifier) @_require
  arguments: (arguments
    .
    (string
      (string_fragment) @name))) @reference.module
  (#eq? @_require "require"))

(call_expression
  function: (import)
  arguments: (arguments
    .
    (string
      (string_fragment) @name))) @reference.module
