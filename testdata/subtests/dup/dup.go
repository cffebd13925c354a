package dup
