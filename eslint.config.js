// Lint and format rules for src/, bench/, test/ and bin/ (`npm run lint`). Formatting follows the
// hand style of the code rather than a re-layout formatter: the kernels' tiles are laid out by hand.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // the AssemblyScript kernels are checked by their own compiler (asc), not as TypeScript
  { ignores: ['dist/', 'node_modules/', 'checkpoints/', '.venv/', 'src/engine/kernels/simd/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { '@stylistic': stylistic },
    rules: {
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1 }],
      '@stylistic/max-len': ['error', { code: 140, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1, maxEOF: 0 }],
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-before-blocks': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/comma-spacing': 'error',
      '@stylistic/key-spacing': 'error',
      '@stylistic/object-curly-spacing': ['error', 'always'],
      '@stylistic/arrow-parens': ['error', 'always'],
      '@stylistic/member-delimiter-style': 'error',
      '@stylistic/type-annotation-spacing': 'error',
      // `const { vocab: _, ...rest } = x` is how an object is copied without one key
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  // bin/ is plain JavaScript run by Node.
  { files: ['bin/**/*.js'], languageOptions: { globals: { process: 'readonly', URL: 'readonly' } } },
  // the playground is plain JavaScript run by the browser.
  {
    files: ['src/serve/page/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'fetch', 'sessionStorage', 'Option', 'AbortController', 'performance', 'TextDecoder', 'ResizeObserver', 'crypto', 'NodeFilter',
        'requestAnimationFrame', 'cancelAnimationFrame', 'Text']
        .map((name) => [name, 'readonly'])),
    },
  },
);
