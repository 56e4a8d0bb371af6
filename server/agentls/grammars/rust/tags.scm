; Rust tags. Structs, enums and unions are tagged as classes, traits as interfaces, enum variants as constants;
; macro invocations are calls. Earlier patterns win over later ones on the same name.

; --- definitions

(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name) @definition.method))

(trait_item
  body: (declaration_list
    [
      (function_item
        name: (identifier) @name)
      (function_signature_item
        name: (identifier) @name)
    ] @definition.method))

[
  (function_item
    name: (identifier) @name)
  (function_signature_item
    name: (identifier) @name)
] @definition.function

[
  (struct_item
    name: (type_identifier) @name)
  (enum_item
    name: (type_identifier) @name)
  (union_item
    name: (type_identifier) @name)
] @definition.class

(trait_item
  name: (type_identifier) @name) @definition.interface

(type_item
  name: (type_identifier) @name) @definition.type

(mod_item
  name: (identifier) @name) @definition.module

(macro_definition
  name: (identifier) @name) @definition.macro

[
  (const_item
    name: (identifier) @name)
  (static_item
    name: (identifier) @name)
  (enum_variant
    name: (identifier) @name)
] @definition.constant

(field_declaration
  name: (field_identifier) @name) @definition.field

; --- references

(call_expression
  function: [
    (identifier) @name
    (field_expression
      field: (field_identifier) @name)
    (scoped_identifier
      name: (identifier) @name)
    (generic_function
      function: [
        (identifier) @name
        (field_expression
          field: (field_identifier) @name)
        (scoped_identifier
          name: (identifier) @name)
      ])
  ]) @reference.call

(macro_invocation
  macro: [
    (identifier) @name
    (scoped_identifier
      name: (identifier) @name)
  ]) @reference.call

(struct_expression
  name: [
    (type_identifier) @name
    (scoped_type_identifier
      name: (type_identifier) @name)
    (generic_type_with_turbofish
      type: (type_identifier) @name)
  ]) @reference.class

(impl_item
  trait: [
    (type_identifier) @name
    (scoped_type_identifier
      name: (type_identifier) @name)
    (generic_type
      type: (type_identifier) @name)
  ]) @reference.implementation

(impl_item
  type: [
    (type_identifier) @name
    (generic_type
      type: (type_identifier) @name)
  ]
  !trait) @reference.implementation

; use a::b::C; use a::{B, c::D as E}: references to C, B and D.
(use_declaration
  argument: [
    (identifier) @name
    (scoped_identifier
      name: (identifier) @name)
    (use_as_clause
      path: [
        (identifier) @name
        (scoped_identifier
          name: (identifier) @name)
      ])
  ]) @reference.import

(use_list
  [
    (identifier) @name
    (scoped_identifier
      name: (identifier) @name)
    (use_as_clause
      path: [
        (identifier) @name
        (scoped_identifier
          name: (identifier) @name)
      ])
  ] @reference.import)

; Every other use of a named type.
((type_identifier) @name @reference.type)
