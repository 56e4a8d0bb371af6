; Go tags. Structs are tagged as classes, interfaces as interfaces, other named types as types; package-level
; vars and consts as constants. Earlier patterns win over later ones on the same name.

; --- definitions

(function_declaration
  name: (identifier) @name) @definition.function

(method_declaration
  name: (field_identifier) @name) @definition.method

(type_spec
  name: (type_identifier) @name
  type: (struct_type)) @definition.class

(type_spec
  name: (type_identifier) @name
  type: (interface_type)) @definition.interface

[
  (type_spec
    name: (type_identifier) @name)
  (type_alias
    name: (type_identifier) @name)
] @definition.type

(method_elem
  name: (field_identifier) @name) @definition.method

(field_declaration
  name: (field_identifier) @name) @definition.field

(source_file
  (const_declaration
    (const_spec
      name: (identifier) @name) @definition.constant))

((source_file
  (var_declaration
    [
      (var_spec
        name: (identifier) @name) @definition.constant
      (var_spec_list
        (var_spec
          name: (identifier) @name) @definition.constant)
    ]))
  (#not-eq? @name "_"))

(package_clause
  (package_identifier) @name) @definition.module

; --- references

(call_expression
  function: [
    (identifier) @name
    (parenthesized_expression
      (identifier) @name)
    (selector_expression
      field: (field_identifier) @name)
    (parenthesized_expression
      (selector_expression
        field: (field_identifier) @name))
    (index_expression
      operand: (identifier) @name)
  ]) @reference.call

; A composite literal constructs a value of the type, as new X does elsewhere: Store{...}, rl.Limiter{...}.
(composite_literal
  type: [
    (type_identifier) @name
    (qualified_type
      name: (type_identifier) @name)
    (generic_type
      type: (type_identifier) @name)
  ]) @reference.class

(import_spec
  path: (interpreted_string_literal
    (interpreted_string_literal_content) @name)) @reference.module

; Every other use of a named type.
((type_identifier) @name @reference.type)
