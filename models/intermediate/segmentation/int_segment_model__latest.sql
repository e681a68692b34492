{#- The parameter rows of the most recent stored K-means model (highest run_seq). -#}
with

history as (
    select * from {{ ref('shopseg', 'segment_kmeans_fit') }}
),

latest as (
    select max(run_seq) as run_seq from history
),

final as (
    select history.*
    from history
    inner join latest
        on history.run_seq = latest.run_seq
)

select * from final
