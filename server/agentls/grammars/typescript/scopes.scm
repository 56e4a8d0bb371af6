; inherits: ecma
; TypeScript scopes: the shared ecma patterns plus abstract classes, interfaces, enums and namespaces.

[
  (abstract_class_declaration
    name: (type_identifier) @name)
  (interface_declaration
    name: (type_identifier) @name)
  (enum_declaration
    name: (identifier) @name)
] @scope.class

(internal_module
  name: (_) @name) @scope.module

(module
  name: [
    (identifier) @name
    (nested_identifier) @name
    (string
      (string_fragment) @name)
  ]) @scope.module
