; C# scopes: methods, constructors, local functions, properties and lambdas; types; namespaces.

[
  (method_declaration
    name: (identifier) @name)
  (constructor_declaration
    name: (identifier) @name)
  (destructor_declaration
    name: (identifier) @name)
  (local_function_statement
    name: (identifier) @name)
  (property_declaration
    name: (identifier) @name)
] @scope.function

[(lambda_expression) (anonymous_method_expression)] @scope.function

[
  (class_declaration
    name: (identifier) @name)
  (struct_declaration
    name: (identifier) @name)
  (record_declaration
    name: (identifier) @name)
  (interface_declaration
    name: (identifier) @name)
  (enum_declaration
    name: (identifier) @name)
] @scope.class

[
  (namespace_declaration
    name: (_) @name)
  (file_scoped_namespace_declaration
    name: (_) @name)
] @scope.module
