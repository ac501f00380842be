import 'reflect-metadata';

export * from './access';
export * from './denials';
export * from './errors';
export * from './rights-state';
export * from './events';
export * from './domain';
export * from './machine';
export * from './authority';
export * from './config';
export * from './cost-model';
export * from './tokens';
export * from './plugin';
export * from './define-plugin';
export * from './user-pkey-abi';
export * from './echo';
export * from './nesting';
export * from './page-table-format';
