; C# tags. Classes, structs, records and enums are tagged as classes, interfaces as interfaces, delegates as types,
; fields, properties and events as fields, enum members as constants; base types are class references. Names of
; types are plain identifiers in this grammar, so type references are found by position.

; --- definitions

[
  (class_declaration
    name: (identifier) @name)
  (struct_declaration
    name: (identifier) @name)
  (record_declaration
    name: (identifier) @name)
  (enum_declaration
    name: (identifier) @name)
] @definition.class

(interface_declaration
  name: (identifier) @name) @definition.interface

(delegate_declaration
  name: (identifier) @name) @definition.type

(method_declaration
  name: (identifier) @name) @definition.method

(local_function_statement
  name: (identifier) @name) @definition.function

[
  (field_declaration
    (variable_declaration
      (variable_declarator
        name: (identifier) @name)))
  (event_field_declaration
    (variable_declaration
      (variable_declarator
        name: (identifier) @name)))
  (property_declaration
    name: (identifier) @name)
  (event_declaration
    name: (identifier) @name)
] @definition.field

(enum_member_declaration
  name: (identifier) @name) @definition.constant

[
  (namespace_declaration
    name: (_) @name)
  (file_scoped_namespace_declaration
    name: (_) @name)
] @definition.module

; --- references

(invocation_expression
  function: [
    (identifier) @name
    (generic_name
      (identifier) @name)
    (member_access_expression
      name: [
        (identifier) @name
        (generic_name
          (identifier) @name)
      ])
    (conditional_access_expression
      (member_binding_expression
        name: [
          (identifier) @name
          (generic_name
            (identifier) @name)
        ]))
  ]) @reference.call

(object_creation_expression
  type: [
    (identifier) @name
    (generic_name
      (identifier) @name)
    (qualified_name
      name: [
        (identifier) @name
        (generic_name
          (identifier) @name)
      ])
  ]) @reference.class

(base_list
  [
    (identifier) @name
    (generic_name
      (identifier) @name)
    (qualified_name
      name: [
        (identifier) @name
        (generic_name
          (identifier) @name)
      ])
  ] @reference.class)

(attribute
  name: [
    (identifier) @name
    (qualified_name
      name: (identifier) @name)
  ]) @reference.type

; using System.Linq; using static System.Math;: the namespace or type. using Json = X.JsonSerializer;: JsonSerializer.
(using_directive
  !name
  [
    (identifier)
    (qualified_name)
  ] @name) @reference.module

(using_directive
  name: (identifier)
  [
    (identifier) @name
    (qualified_name
      name: (identifier) @name)
  ]) @reference.import

; Types in declarations: parameters, variables, properties, return types, type arguments, arrays, nullables.
(_
  type: [
    (identifier) @name
    (qualified_name
      name: (identifier) @name)
  ] @reference.type)

(_
  returns: [
    (identifier) @name
    (qualified_name
      name: (identifier) @name)
  ] @reference.type)

(generic_name
  (identifier) @name) @reference.type

(type_argument_list
  [
    (identifier) @name
    (qualified_name
      name: (identifier) @name)
  ] @reference.type)
