; Go scopes: functions, methods and function literals; struct and interface types.

[
  (function_declaration
    name: (identifier) @name)
  (method_declaration
    name: (field_identifier) @name)
] @scope.function

(func_literal) @scope.function

(type_spec
  name: (type_identifier) @name
  type: [(struct_type) (interface_type)]) @scope.class
