; Ruby scopes: methods, blocks and lambdas; classes (class << self included) and modules.

[
  (method
    name: (_) @name)
  (singleton_method
    name: (_) @name)
] @scope.function

[(block) (do_block) (lambda)] @scope.function

(class
  name: [
    (constant) @name
    (scope_resolution
      name: (_) @name)
  ]) @scope.class

(singleton_class) @scope.class

(module
  name: [
    (constant) @name
    (scope_resolution
      name: (_) @name)
  ]) @scope.module
