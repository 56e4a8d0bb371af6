; Python scopes: functions, methods, lambdas and classes (a decorated definition's scope starts at "def"/"class").

(function_definition
  name: (identifier) @name) @scope.function

(lambda) @scope.function

(class_definition
  name: (identifier) @name) @scope.class
