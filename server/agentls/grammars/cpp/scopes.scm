; inherits: c
; C++ scopes: C's, plus methods returning references, lambdas, classes and namespaces.

(function_definition
  declarator: (reference_declarator
    (function_declarator
      declarator: (_) @name))) @scope.function

(lambda_expression) @scope.function

(class_specifier
  name: (_) @name
  body: (_)) @scope.class

(class_specifier
  body: (_)) @scope.class

(namespace_definition
  name: (_) @name) @scope.module

(namespace_definition) @scope.module
