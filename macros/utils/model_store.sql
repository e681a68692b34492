{#-
    Promotion of the model stores. segment_kmeans_fit and segment_forest append this build's
    model as a candidate; segment_model_promotions, which dbt runs only when every gated mart
    and its tests passed, records it as promoted. The next build starts from the last
    promoted state: the candidates of a failed build are discarded before anything reads the
    store, so ids, previous segments and stability never come from a model that was not
    promoted.
-#}

{#- The relation a model of this package was built as (previous builds), or none. -#}
{% macro shopseg_built_relation(model_name) %}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set node = graph.nodes.get('model.shopseg.' ~ model_name) -%}
    {%- if node is none -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(adapter.get_relation(
        database=node.database, schema=node.schema, identifier=node.alias)) }}
{% endmacro %}

{#-
    pre_hook of a model store (an incremental table of runs with run_id and run_seq):
    delete every run stored after the last promoted one, the `promoted_column` run of the
    latest segment_model_promotions row. Before any promotion, nothing in the store is
    promoted and everything goes. No-op on a first build or a full refresh.
-#}
{% macro shopseg_discard_unpromoted(promoted_column) %}
    {%- if execute and is_incremental() -%}
        {%- set promotions = shopseg_built_relation('segment_model_promotions') -%}
        {%- if promotions is none %}
            delete from {{ this }}
        {%- else %}
            delete from {{ this }}
            where run_seq > coalesce((
                select max(stored.run_seq)
                from {{ this }} as stored
                inner join (
                    select {{ promoted_column }} as run_id
                    from {{ promotions }}
                    where promotion_seq = (select max(promotion_seq) from {{ promotions }})
                ) as promoted
                    on stored.run_id = promoted.run_id
            ), 0)
        {%- endif -%}
    {%- endif -%}
{% endmacro %}
