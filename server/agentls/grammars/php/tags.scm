; PHP tags. Classes and enums are tagged as classes, interfaces and traits as interfaces, properties (promoted
; constructor parameters included) as fields without their "$", class and global constants and enum cases as
; constants. Names are the last segment of a qualified name: \App\Models\User -> User.

; --- definitions

[
  (class_declaration
    name: (name) @name)
  (enum_declaration
    name: (name) @name)
] @definition.class

[
  (interface_declaration
    name: (name) @name)
  (trait_declaration
    name: (name) @name)
] @definition.interface

(method_declaration
  name: (name) @name) @definition.method

(function_definition
  name: (name) @name) @definition.function

(namespace_definition
  name: (namespace_name) @name) @definition.module

[
  (const_element
    (name) @name)
  (enum_case
    name: (name) @name)
] @definition.constant

[
  (property_element
    name: (variable_name
      (name) @name))
  (property_promotion_parameter
    name: (variable_name
      (name) @name))
] @definition.field

; --- references

(function_call_expression
  function: [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.call

[
  (member_call_expression
    name: (name) @name)
  (nullsafe_member_call_expression
    name: (name) @name)
  (scoped_call_expression
    name: (name) @name)
] @reference.call

; new static(), self::X, parent::f(): no symbol of that name. (Not #not-any-of?: py-tree-sitter 0.26.1 gets it
; wrong for more than one value.)
((object_creation_expression
  [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.class
  (#not-match? @name "^(static|self|parent)$"))

(base_clause
  [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.class

; Static uses of a class: Repository::default(), Status::Paid.
((scoped_call_expression
  scope: [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.class
  (#not-match? @name "^(static|self|parent)$"))

((class_constant_access_expression
  .
  [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.class
  (#not-match? @name "^(static|self|parent)$"))

(class_interface_clause
  [
    (name) @name
    (qualified_name
      (name) @name)
  ] @reference.implementation)

; use SomeTrait; inside a class body
(use_declaration
  [
    (name) @name
    (qualified_name
      (name) @name)
  ] @reference.implementation)

; use App\Contracts\Repository; use App\Events\{InvoicePaid, InvoiceVoided as Voided};
(namespace_use_clause
  .
  [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.import

[
  (require_expression
    [
      (string
        (string_content) @name)
      (binary_expression
        right: (string
          (string_content) @name))
    ])
  (require_once_expression
    [
      (string
        (string_content) @name)
      (binary_expression
        right: (string
          (string_content) @name))
    ])
  (include_expression
    [
      (string
        (string_content) @name)
      (binary_expression
        right: (string
          (string_content) @name))
    ])
  (include_once_expression
    [
      (string
        (string_content) @name)
      (binary_expression
        right: (string
          (string_content) @name))
    ])
] @reference.module

((named_type
  [
    (name) @name
    (qualified_name
      (name) @name)
  ]) @reference.type
  (#not-match? @name "^(static|self|parent)$"))
