; inherits: ecma
; TypeScript tags: the shared ecma patterns plus types. Enums are tagged as classes (a nominal type with members),
; type aliases as types.

(function_signature
  name: (identifier) @name) @definition.function

[
  (method_signature
    name: (property_identifier) @name)
  (abstract_method_signature
    name: (property_identifier) @name)
] @definition.method

(abstract_class_declaration
  name: (type_identifier) @name) @definition.class

(interface_declaration
  name: (type_identifier) @name) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name) @definition.type

(enum_declaration
  name: (identifier) @name) @definition.class

; namespace a.b { } and declare module "m" { }
(internal_module
  name: [(identifier) (nested_identifier)] @name) @definition.module

(module
  name: [
    (identifier) @name
    (nested_identifier) @name
    (string
      (string_fragment) @name)
  ]) @definition.module

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.field

; Members of interfaces and of object types given a name, not of every inline { a: T } annotation.
(interface_body
  (property_signature
    name: (property_identifier) @name) @definition.field)

(type_alias_declaration
  value: (object_type
    (property_signature
      name: (property_identifier) @name) @definition.field))

(extends_clause
  value: [
    (identifier) @name
    (member_expression
      property: (property_identifier) @name)
  ]) @reference.class

(implements_clause
  [
    (type_identifier) @name
    (generic_type
      name: (type_identifier) @name)
    (nested_type_identifier
      name: (type_identifier) @name)
  ]) @reference.implementation

; Every other use of a named type: annotations, type arguments, extends of interfaces, ...
((type_identifier) @name @reference.type)
