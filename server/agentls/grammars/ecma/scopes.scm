; Scopes shared by JavaScript and TypeScript (a query fragment). A function expression takes the name it is
; bound to (const f = () => ..., { f: function () {} }, obj.f = ...) when it has none of its own.

[
  (function_declaration
    name: (identifier) @name)
  (generator_function_declaration
    name: (identifier) @name)
  (function_expression
    name: (identifier) @name)
  (generator_function
    name: (identifier) @name)
  (method_definition
    name: (_) @name)
] @scope.function

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)] @scope.function)

(pair
  key: (_) @name
  value: [(arrow_function) (function_expression) (generator_function)] @scope.function)

(assignment_expression
  left: [
    (identifier) @name
    (member_expression
      property: (property_identifier) @name)
  ]
  right: [(arrow_function) (function_expression) (generator_function)] @scope.function)

[(arrow_function) (function_expression) (generator_function)] @scope.function

[
  (class_declaration
    name: (_) @name)
  (class
    name: (_) @name)
] @scope.class

(class) @scope.class
