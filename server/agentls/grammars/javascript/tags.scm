; inherits: ecma, jsx
; JavaScript tags: the shared ecma patterns and JSX components, plus what only the JavaScript grammar has.

(class_heritage
  [
    (identifier) @name
    (member_expression
      property: (property_identifier) @name)
  ]) @reference.class

(field_definition
  property: [(property_identifier) (private_property_identifier)] @name) @definition.field
