// ESLint 10 flat config (the only format ESLint 10 reads).
// Type-aware linting through typescript-eslint's project service: every linted
// .ts file must belong to a tsconfig (tsconfig.json includes src/ and test/).
import eslint from '@eslint/js';
import { defineConfig } from 'eslint/config';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const testFiles = ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts'];

export default defineConfig(
  {
    name: 'hubbub/ignores',
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'scripts/**',
      'data/**',
      // root config files (jest.config.js, eslint.config.mjs, …) are plain JS, outside any tsconfig
      '*.js',
      '*.mjs',
      '*.cjs',
    ],
  },
  eslint.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    name: 'hubbub/typescript',
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    name: 'hubbub/tests',
    files: testFiles,
    rules: {
      // tests read untyped JSON frames off sockets and pass jest mocks around
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-enum-comparison': 'off',
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      '@typescript-eslint/no-unsafe-unary-minus': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Test code reads JSON frames of the wire protocol, which are untyped by nature.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  // last: turns off every stylistic rule that would fight Prettier
  prettier,
);
