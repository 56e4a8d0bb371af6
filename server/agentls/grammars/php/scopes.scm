; PHP scopes: functions, methods, closures and arrow functions; classes, interfaces, traits and enums; braced
; namespaces (a "namespace X;" statement encloses nothing).

[
  (function_definition
    name: (name) @name)
  (method_declaration
    name: (name) @name)
] @scope.function

[(anonymous_function) (arrow_function)] @scope.function

[
  (class_declaration
    name: (name) @name)
  (interface_declaration
    name: (name) @name)
  (trait_declaration
    name: (name) @name)
  (enum_declaration
    name: (name) @name)
] @scope.class

(namespace_definition
  name: (namespace_name) @name
  body: (compound_statement)) @scope.module
