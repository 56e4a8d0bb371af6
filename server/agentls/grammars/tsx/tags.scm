; inherits: typescript, jsx
; TSX tags: TypeScript's and JSX components.
