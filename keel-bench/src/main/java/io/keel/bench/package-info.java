package io.keel.bench;
