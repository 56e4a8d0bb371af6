; Rust scopes: functions and closures; impl blocks (named after their type), traits and type definitions; modules.

(function_item
  name: (identifier) @name) @scope.function

(closure_expression) @scope.function

(impl_item
  type: [
    (type_identifier) @name
    (generic_type
      type: (type_identifier) @name)
    (scoped_type_identifier
      name: (type_identifier) @name)
  ]) @scope.class

[
  (trait_item
    name: (type_identifier) @name)
  (struct_item
    name: (type_identifier) @name)
  (enum_item
    name: (type_identifier) @name)
  (union_item
    name: (type_identifier) @name)
] @scope.class

(mod_item
  name: (identifier) @name) @scope.module
