; JSX component uses (a query fragment for javascript and tsx): <Panel>, <Layout.Header />. Lower-case names are
; HTML elements, not symbols.

([
  (jsx_opening_element
    name: [
      (identifier) @name
      (member_expression
        property: (property_identifier) @name)
    ])
  (jsx_self_closing_element
    name: [
      (identifier) @name
      (member_expression
        property: (property_identifier) @name)
    ])
] @reference.call
  (#match? @name "^[A-Z]"))
