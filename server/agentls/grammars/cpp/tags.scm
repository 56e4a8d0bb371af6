; inherits: c
; C++ tags: C's, plus classes, methods (constructors included), namespaces, aliases, new and base classes.
; These patterns come before C's, so a function in a class body is a method rather than a function.

; --- definitions

; Methods defined in a class body, templates included.
(field_declaration_list
  [
    (function_definition
      declarator: [
        (function_declarator
          declarator: [(identifier) (field_identifier)] @name)
        (pointer_declarator
          declarator: (function_declarator
            declarator: [(identifier) (field_identifier)] @name))
        (reference_declarator
          (function_declarator
            declarator: [(identifier) (field_identifier)] @name))
      ])
    (template_declaration
      (function_definition
        declarator: [
          (function_declarator
            declarator: [(identifier) (field_identifier)] @name)
          (pointer_declarator
            declarator: (function_declarator
              declarator: [(identifier) (field_identifier)] @name))
          (reference_declarator
            (function_declarator
              declarator: [(identifier) (field_identifier)] @name))
        ]))
  ] @definition.method)

; Methods declared in a class body.
(field_declaration
  declarator: [
    (function_declarator
      declarator: (field_identifier) @name)
    (pointer_declarator
      declarator: (function_declarator
        declarator: (field_identifier) @name))
    (reference_declarator
      (function_declarator
        declarator: (field_identifier) @name))
  ]) @definition.method

; Methods defined outside their class: Square::area, a::B::c (a namespace-qualified function looks the same).
(function_definition
  declarator: [
    (function_declarator
      declarator: (qualified_identifier
        name: [
          (identifier) @name
          (qualified_identifier
            name: (identifier) @name)
        ]))
    (pointer_declarator
      declarator: (function_declarator
        declarator: (qualified_identifier
          name: [
            (identifier) @name
            (qualified_identifier
              name: (identifier) @name)
          ])))
    (reference_declarator
      (function_declarator
        declarator: (qualified_identifier
          name: [
            (identifier) @name
            (qualified_identifier
              name: (identifier) @name)
          ])))
  ]) @definition.method

(class_specifier
  name: (type_identifier) @name
  body: (_)) @definition.class

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name) @definition.module

(alias_declaration
  name: (type_identifier) @name) @definition.type

; Variables and prototypes at namespace level (C's patterns see only the file level).
(namespace_definition
  body: (declaration_list
    (declaration
      declarator: [
        (identifier) @name
        (init_declarator
          declarator: [
            (identifier) @name
            (pointer_declarator
              declarator: (identifier) @name)
            (reference_declarator
              (identifier) @name)
          ])
      ]) @definition.constant))

(namespace_definition
  body: (declaration_list
    (declaration
      declarator: [
        (function_declarator
          declarator: (identifier) @name)
        (pointer_declarator
          declarator: (function_declarator
            declarator: (identifier) @name))
        (reference_declarator
          (function_declarator
            declarator: (identifier) @name))
      ]) @definition.function))

; --- references

(call_expression
  function: [
    (qualified_identifier
      name: [
        (identifier) @name
        (template_function
          name: (identifier) @name)
        (qualified_identifier
          name: [
            (identifier) @name
            (template_function
              name: (identifier) @name)
          ])
      ])
    (template_function
      name: (identifier) @name)
    (field_expression
      field: (template_method
        name: (field_identifier) @name))
  ]) @reference.call

(new_expression
  type: [
    (type_identifier) @name
    (template_type
      name: (type_identifier) @name)
    (qualified_identifier
      name: [
        (type_identifier) @name
        (template_type
          name: (type_identifier) @name)
      ])
  ]) @reference.class

(base_class_clause
  [
    (type_identifier) @name
    (template_type
      name: (type_identifier) @name)
    (qualified_identifier
      name: [
        (type_identifier) @name
        (template_type
          name: (type_identifier) @name)
      ])
  ] @reference.class)

; using std::string; using namespace std;
(using_declaration
  (qualified_identifier
    name: (identifier) @name)) @reference.import

(using_declaration
  "namespace"
  [(identifier) (qualified_identifier)] @name) @reference.module
