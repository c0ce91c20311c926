package io.keel.core.app;

import com.fasterxml.jackson.databind.JsonNode;

/** One step of a saved configuration: an RPC method and its parameters ({@code {"method":..,"params":..}}). */
public record ConfigEntry(String method, JsonNode params) {
}
