; Java scopes: methods, constructors and lambdas; classes, interfaces, enums, records (and anonymous classes).

[
  (method_declaration
    name: (identifier) @name)
  (constructor_declaration
    name: (identifier) @name)
  (compact_constructor_declaration
    name: (identifier) @name)
] @scope.function

(lambda_expression) @scope.function

[
  (class_declaration
    name: (identifier) @name)
  (interface_declaration
    name: (identifier) @name)
  (enum_declaration
    name: (identifier) @name)
  (record_declaration
    name: (identifier) @name)
  (annotation_type_declaration
    name: (identifier) @name)
] @scope.class

(object_creation_expression
  (class_body)) @scope.class
