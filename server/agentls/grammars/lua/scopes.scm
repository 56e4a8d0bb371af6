; Lua scopes: functions, named as written (Bus:on, M.create, or the variable or field they are assigned to).

(function_declaration
  name: (_) @name) @scope.function

(assignment_statement
  (variable_list
    .
    name: (_) @name)
  (expression_list
    .
    value: (function_definition) @scope.function))

(field
  name: (identifier) @name
  value: (function_definition) @scope.function)

(function_definition) @scope.function
