; C tags (C++ inherits them). Structs, unions and enums with a body are tagged as classes, typedefs as types,
; enumerators and file-level variables as constants, #defines as macros. A prototype at file level is a
; definition too: in a header it is the only one there is.

; --- definitions

(function_definition
  declarator: [
    (function_declarator
      declarator: (identifier) @name)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (identifier) @name))
    (pointer_declarator
      declarator: (pointer_declarator
        declarator: (function_declarator
          declarator: (identifier) @name)))
  ]) @definition.function

(translation_unit
  (declaration
    declarator: [
      (function_declarator
        declarator: (identifier) @name)
      (pointer_declarator
        declarator: (function_declarator
          declarator: (identifier) @name))
    ]) @definition.function)

[
  (struct_specifier
    name: (type_identifier) @name
    body: (_))
  (union_specifier
    name: (type_identifier) @name
    body: (_))
  (enum_specifier
    name: (type_identifier) @name
    body: (_))
] @definition.class

(type_definition
  declarator: [
    (type_identifier) @name
    (pointer_declarator
      declarator: (type_identifier) @name)
    (function_declarator
      declarator: (parenthesized_declarator
        (pointer_declarator
          declarator: (type_identifier) @name)))
  ]) @definition.type

(enumerator
  name: (identifier) @name) @definition.constant

[
  (preproc_def
    name: (identifier) @name)
  (preproc_function_def
    name: (identifier) @name)
] @definition.macro

; File-level variables: int x; static const char *names[] = {...};
(translation_unit
  (declaration
    declarator: [
      (identifier) @name
      (array_declarator
        declarator: (identifier) @name)
      (pointer_declarator
        declarator: [
          (identifier) @name
          (array_declarator
            declarator: (identifier) @name)
        ])
      (init_declarator
        declarator: [
          (identifier) @name
          (array_declarator
            declarator: (identifier) @name)
          (pointer_declarator
            declarator: [
              (identifier) @name
              (array_declarator
                declarator: (identifier) @name)
            ])
        ])
    ]) @definition.constant)

(field_declaration
  declarator: [
    (field_identifier) @name
    (array_declarator
      declarator: (field_identifier) @name)
    (pointer_declarator
      declarator: (field_identifier) @name)
  ]) @definition.field

; --- references

(call_expression
  function: [
    (identifier) @name
    (field_expression
      field: (field_identifier) @name)
  ]) @reference.call

(preproc_include
  path: (string_literal
    (string_content) @name)) @reference.module

; Every other use of a named type (struct x, x_t).
((type_identifier) @name @reference.type)
