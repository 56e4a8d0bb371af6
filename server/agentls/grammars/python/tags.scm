; Python tags. Where two patterns tag the same name, the earlier one wins: methods before functions, a decorated
; definition (whose node then includes its decorators) before the bare one.

; --- definitions

(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name)) @definition.method))

(class_definition
  body: (block
    (function_definition
      name: (identifier) @name) @definition.method))

(decorated_definition
  definition: (function_definition
    name: (identifier) @name)) @definition.function

(function_definition
  name: (identifier) @name) @definition.function

(decorated_definition
  definition: (class_definition
    name: (identifier) @name)) @definition.class

(class_definition
  name: (identifier) @name) @definition.class

; Class attributes, annotated or assigned: model fields, dataclass fields, class constants.
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name) @definition.field)))

; Module-level variables, whether constants or not.
(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant))

(type_alias_statement
  left: (type
    (identifier) @name)) @definition.type

; --- references

(call
  function: [
    (identifier) @name
    (attribute
      attribute: (identifier) @name)
  ]) @reference.call

(decorator
  [
    (identifier) @name
    (attribute
      attribute: (identifier) @name)
  ]) @reference.call

(class_definition
  superclasses: (argument_list
    [
      (identifier) @name
      (attribute
        attribute: (identifier) @name)
    ] @reference.class))

(except_clause
  value: [
    (identifier) @name
    (attribute
      attribute: (identifier) @name)
  ] @reference.class)

(except_clause
  value: (tuple
    [
      (identifier) @name
      (attribute
        attribute: (identifier) @name)
    ] @reference.class))

(type
  [
    (identifier) @name
    (attribute
      attribute: (identifier) @name)
  ]) @reference.type

(generic_type
  (identifier) @name) @reference.type

; A quoted annotation ("Item", "models.Model") when it is a plain, possibly dotted, name.
((type
  (string
    (string_content) @name)) @reference.type
  (#match? @name "^[A-Za-z_][A-Za-z_0-9]*$"))

; from x import a, b as c: references to a and b, where they are defined.
(import_from_statement
  name: [
    (dotted_name
      (identifier) @name .)
    (aliased_import
      name: (dotted_name
        (identifier) @name .))
  ] @reference.import)

; The module imported: "os.path", ".storage", "." (relative to this file).
(import_from_statement
  module_name: (_) @name) @reference.module

(import_statement
  name: [
    (dotted_name) @name
    (aliased_import
      name: (dotted_name) @name)
  ]) @reference.module
