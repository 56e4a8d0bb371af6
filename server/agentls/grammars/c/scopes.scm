; C scopes: function definitions; structs, unions and enums with a body.

(function_definition
  declarator: [
    (function_declarator
      declarator: (_) @name)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (_) @name))
    (pointer_declarator
      declarator: (pointer_declarator
        declarator: (function_declarator
          declarator: (_) @name)))
  ]) @scope.function

(function_definition) @scope.function

[
  (struct_specifier
    name: (type_identifier) @name
    body: (_))
  (union_specifier
    name: (type_identifier) @name
    body: (_))
  (enum_specifier
    name: (type_identifier) @name
    body: (_))
] @scope.class

[
  (struct_specifier
    body: (_))
  (union_specifier
    body: (_))
  (enum_specifier
    body: (_))
] @scope.class
