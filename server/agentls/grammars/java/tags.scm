; Java tags. Classes, records and enums are tagged as classes, interfaces and annotation types as interfaces, enum
; constants as constants; annotations are references to their type. Constructors are not tagged (the class is).

; --- definitions

[
  (class_declaration
    name: (identifier) @name)
  (record_declaration
    name: (identifier) @name)
  (enum_declaration
    name: (identifier) @name)
] @definition.class

[
  (interface_declaration
    name: (identifier) @name)
  (annotation_type_declaration
    name: (identifier) @name)
] @definition.interface

(method_declaration
  name: (identifier) @name) @definition.method

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @definition.field

(constant_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @definition.constant

(enum_constant
  name: (identifier) @name) @definition.constant

(package_declaration
  [
    (identifier)
    (scoped_identifier)
  ] @name) @definition.module

; --- references

(method_invocation
  name: (identifier) @name) @reference.call

; String::valueOf (Foo::new names no method)
(method_reference
  (_)
  (identifier) @name .) @reference.call

(object_creation_expression
  type: [
    (type_identifier) @name
    (generic_type
      (type_identifier) @name)
    (scoped_type_identifier
      (type_identifier) @name .)
  ]) @reference.class

(superclass
  [
    (type_identifier) @name
    (generic_type
      (type_identifier) @name)
    (scoped_type_identifier
      (type_identifier) @name .)
  ]) @reference.class

(super_interfaces
  (type_list
    [
      (type_identifier) @name
      (generic_type
        (type_identifier) @name)
      (scoped_type_identifier
        (type_identifier) @name .)
    ] @reference.implementation))

[
  (marker_annotation
    name: [
      (identifier) @name
      (scoped_identifier
        name: (identifier) @name)
    ])
  (annotation
    name: [
      (identifier) @name
      (scoped_identifier
        name: (identifier) @name)
    ])
] @reference.type

; import a.b.C; import static a.b.C.m;: references to C and m. import a.b.*;: the package.
(import_declaration
  (scoped_identifier
    name: (identifier) @name) .) @reference.import

(import_declaration
  [
    (identifier)
    (scoped_identifier)
  ] @name
  (asterisk)) @reference.module

; Every other use of a named type.
((type_identifier) @name @reference.type)
