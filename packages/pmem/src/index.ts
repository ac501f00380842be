import 'reflect-metadata';

export * from './pgmap';
export * from './namespace';
export * from './campaign';
